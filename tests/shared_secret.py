"""The one shared secret the tests give Rasa's side and the service.

Every piece that holds the secret (the HandoffConnector, the event broker, the action server's
client, the service) refuses to start on a placeholder or a secret under 32 bytes
(`handoff_component.contract.shared_secret`): a test that builds one of them with "s" or
"test-secret" would test a configuration that cannot run. This one passes that rule.
"""

SHARED_SECRET = "shared-secret-of-the-tests-rasa-side-and-service-0123456789"

# What each piece must refuse, and the words its message must hold (besides the key's name).
UNSAFE_SECRETS = [
    # deploy/production.env.example's, as shipped
    ("change-me-shared-hmac-secret", "is a placeholder value"),
    ("0123456789abcdefghijklmnopqrstu", "is shorter than 32 bytes"),
]
# The same, and an unset secret, for the pieces that read it from the environment.
UNSAFE_OR_MISSING_SECRETS = [(None, "is not set"), *UNSAFE_SECRETS]
