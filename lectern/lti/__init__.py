"""Lectern as an LTI 1.3 tool: OIDC login, launches, Deep Linking, and scores back over AGS.

Built on joserfc (JWS and JWK sets) with Lectern's own launch checks, not pylti1p3next, whose
blocking `requests` calls and Django/Flask session adapters fit an async FastAPI service badly.
"""
