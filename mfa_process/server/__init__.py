"""A local container-credentials server (`exec --server`, `serve`): the ECS protocol every SDK
speaks, on loopback, behind a random token, renewing the MFA session before the SDKs ask.

``address``: where it may listen. ``endpoint``: the HTTP side, which answers from what it holds
and checks every request. ``renewal``: what it holds, and when and how that is renewed.
``sources``: the MFA session, or a role assumed with it. ``running``: the server for the life of
a command, or until Ctrl-C.
"""
