"""VocalBaby review and annotation web app (``vocalbaby annotate``); see :mod:`.app`."""
