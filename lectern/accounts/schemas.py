from datetime import datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field

from lectern.accounts.passwords import MAX_LENGTH, MIN_LENGTH, password_as_entered
from lectern.platform.schemas import Input, Output


def _as_entered(value: object) -> object:
    # Other types pass through to the strict str check, which refuses them.
    return password_as_entered(value) if isinstance(value, str) else value


# A password given to sign in, and a new one (its strength is checked by the command's edge).
GivenPassword = Annotated[
    str, BeforeValidator(_as_entered), Field(min_length=1, max_length=MAX_LENGTH)
]
Password = Annotated[
    str, BeforeValidator(_as_entered), Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
]


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
    password: GivenPassword


class TokenIn(LoginIn):
    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None


class PasswordChangeIn(Input):
    current_password: GivenPassword
    new_password: Password


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
    name: str | None
    expires_at: datetime


class CredentialOut(Output):
    """A token or session of the caller's, never its secret."""

    id: int
    created_at: datetime
    expires_at: datetime
    current: bool


class TokenInfoOut(CredentialOut):
    name: str | None


class PasswordResetIn(Input):
    email: Annotated[str, Field(min_length=1, max_length=320)]


# A link's token as e-mailed (lectern.platform.tokens.new_token: 43 characters).
LinkToken = Annotated[str, Field(min_length=1, max_length=200)]


class PasswordResetConfirmIn(Input):
    token: LinkToken
    new_password: Password


class EmailChangeIn(Input):
    email: EmailAddress
    current_password: GivenPassword


class EmailChangeConfirmIn(Input):
    token: LinkToken


class NameChangeIn(Input):
    full_name: Annotated[str, Field(min_length=1, max_length=200)]


ProfileEntry = Annotated[str, Field(min_length=1, max_length=100)]


class ProfileIn(Input):
    """What is given changes; what is left out stays."""

    bio: Annotated[str | None, Field(max_length=5000)] = None
    languages: Annotated[list[ProfileEntry] | None, Field(max_length=30)] = None
    interests: Annotated[list[ProfileEntry] | None, Field(max_length=50)] = None


class ProfileOut(Output):
    user_id: int
    bio: str
    languages: list[str]
    interests: list[str]


class AccountStateOut(UserOut):
    suspended_at: datetime | None
