"""OpenID Connect sign-in through an institution's identity provider."""
