"""Stratus's ``ldap`` auth backend (entry point ``stratus.auth:ldap``)."""
