"""The VocalBaby BentoML service: ``vocalbaby_service.service:VocalBaby`` (see its docstring)."""
