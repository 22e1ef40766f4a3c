"""Why an OpenID Connect sign-in was refused, as problem details."""

from lectern.platform.errors import LecternError


class SignInRefused(LecternError):
    """A sign-in that came back from a provider and is not accepted; nothing was created."""

    status = 400
    title = "Sign-in refused"
    slug = "oidc-refused"


class IdTokenInvalid(SignInRefused):
    status = 401
    slug = "oidc-id-token-invalid"


class DomainNotAllowed(SignInRefused):
    status = 403
    slug = "oidc-domain-not-allowed"


class AccountSuspended(SignInRefused):
    status = 403
    slug = "suspended"


class AccountExists(SignInRefused):
    status = 409
    slug = "oidc-account-exists"


class ProviderUnreachable(LecternError):
    """The identity provider could not be reached or answered nonsense: the provider's fault,
    so a gateway error, not the browser's."""

    status = 502
    title = "Identity provider unreachable"
    slug = "oidc-provider-unreachable"
