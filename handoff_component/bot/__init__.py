"""Everything of the plugin that imports Rasa or rasa_sdk: Rasa's graph components, channels,
event broker and actions. The pure core and the service never import from here."""
