"""OpenID Connect sign-in counters, served at /metrics with the rest."""

from prometheus_client import Counter

SIGN_INS = Counter(
    "lectern_oidc_sign_ins",
    "Sign-ins through an institution's identity provider, by whether they made the account.",
    ["outcome"],
)
FAILURES = Counter(
    "lectern_oidc_sign_in_failures",
    "Sign-ins through an identity provider that were refused or could not finish, by reason.",
    ["reason"],
)
