from datetime import datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field

from lectern.schemas import Input, Output

Password = Annotated[str, Field(min_length=8, max_length=1024)]


def _email_address(value: str) -> str:
    # test_environment: '.test' addresses (RFC 2606) are how demos and staging name people.
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from exc


EmailAddress = Annotated[str, Field(max_length=320), AfterValidator(_email_address)]


class RegisterIn(Input):
    institution: Annotated[str, Field(min_length=1, max_length=200)]
    email: EmailAddress
    password: Password
    full_name: Annotated[str, Field(min_length=1, max_length=200)]


class LoginIn(Input):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class InstitutionOut(Output):
    id: int
    name: str
    slug: str


class UserOut(Output):
    id: int
    email: str
    full_name: str
    role: str
    is_platform_admin: bool
    institution_id: int
    created_at: datetime


class MeOut(UserOut):
    institution: InstitutionOut


class LoginOut(UserOut):
    csrf_token: str


class TokenOut(Output):
    token: str
