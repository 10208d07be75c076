"""`make bench`: stream_processor's broadcast speed against the original sequential loop."""
