from dataclasses import dataclass

from lectern.models import User
from lectern.models.enums import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated caller, as commands need to know them."""

    id: int
    institution_id: int
    role: str
    is_platform_admin: bool
    email: str
    full_name: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.INSTRUCTOR)

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @classmethod
    def of(cls, user: User) -> "Actor":
        return cls(
            id=user.id,
            institution_id=user.institution_id,
            role=user.role,
            is_platform_admin=user.is_platform_admin,
            email=user.email,
            full_name=user.full_name,
        )
