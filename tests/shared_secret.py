"""The one shared secret the tests give Rasa's side and the service.

Every piece that holds the secret (the HandoffConnector, the event broker, the action server's
client, the service) refuses to start on a placeholder or a secret under 32 bytes
(`handoff_component.contract.shared_secret`): a test that builds one of them with "s" or
"test-secret" would test a configuration that cannot run. This one passes that rule.
"""

SHARED_SECRET = "shared-secret-of-the-tests-rasa-side-and-service-0123456789"
