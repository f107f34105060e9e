"""People's annotations of recordings: the revision store, agreement between annotators, the
catalog of recordings under review, and the export of confirmed segments as a dataset."""
