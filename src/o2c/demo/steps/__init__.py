"""The parts of the demo that exercise each module, each made through that module's services.

Every step is idempotent: it looks for the records it made on an earlier run and
creates only what is missing, so `o2c demo setup` can run any number of times.
"""
