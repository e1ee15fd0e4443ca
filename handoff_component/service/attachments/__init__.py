"""Files attendants send: what they are (`file_types`), where their bytes live (`storage`), the
links a customer's channel fetches them by (`links`), and the store that ties them to tickets
(`store`). Routes are in `service/routes/attachments.py`.

This package's `__init__` imports nothing, so the settings can read the default allow-list from
`file_types` without importing the store.
"""
