"""Views of records: a card, a list row, a confirmation, a notification, a report table.

A card turns records (rows, dataclasses) into neutral views with their labels already translated. Cards read
through `storage.repos` and never call services or commands; services return domain results and their callers
hand them to a card.
"""
