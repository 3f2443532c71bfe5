"""Authentication: register, login, tokens, verification, 2FA, OAuth, profile."""
