"""`make bench`: stream_processor broadcast speed against the seed's sequential loop."""
