"""Shared code of the incident-websocket Lambda handlers (standard library + boto3 only).

config             environment variables → typed settings, checked at cold start
limits             every limit and default, defined once
clients            the AWS clients and @connections sender a container builds once
websocket_events   reading `$connect`/`$disconnect` and authorizer events defensively
account_scope      account ids, and the account scope the authorizer hands to `$connect`
access             who is connecting and what they may see (AUTHORIZATION_TYPE)
validation         the `$connect` query parameters
registration       the connections-table item of a `$connect`, and the answer to it
connection_store   a channel's connections table: put, delete, scan the live ones
records            DynamoDB stream records and values → plain Python
message_ids        a message's id, from its stream record: a resume point that sorts in order
messages           the messages clients receive, their `data` and their encoding
stream             a stream batch → its messages, routed to channel keys
message_log        a channel's message log: appended by the stream processor, read by replay
fanout             messages → the live connections of channels (the delivery policy, scopes)
deadline           when a broadcast stops starting work (Lambda's remaining time)
connections_sender signed, retried posts to `@connections` from one event loop
connection_signer  SigV4 for `@connections` posts, the common part computed once
http_nonblocking   non-blocking kept-alive HTTP/1.1 connections of the sender
replies            frames posted to the one connection that asked (replay, presence)
replay             the `replay` route: a connection's missed messages from the log
presence           who is connected: online/offline events, and the member list
logs               one structured log line per event
metrics            the catalogue of CloudWatch metrics, written as EMF lines to stdout
auth/              the `$connect` Lambda authorizer (OIDC JWTs)
"""
