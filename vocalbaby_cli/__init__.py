"""The command line: ``vocalbaby`` (:mod:`.app`) and ``vocalbaby-pipeline`` (:mod:`.pipeline`).

It composes the core library's commands, the review app and the pipeline; it may import every
VocalBaby package, and none imports it.
"""
