"""The plugin's command line, `python -m handoff_component score|rules ...`.

Each subcommand is a module with `add_parser(subparsers)`; `handoff_component.__main__` wires
them. Rasa is imported (through `handoff_component.bot.trained_model`) only when a subcommand is
given a trained model. The service's own command line is `handoff-service`
(`handoff_component.service.__main__`).
"""
