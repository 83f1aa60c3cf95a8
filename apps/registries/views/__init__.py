"""The Registry pages, one module per page. Permissions are decided in the views, through the
policy, never in templates.

Every write works as a plain form post (redirect after success) and in place with htmx (the
changed fragment re-rendered from fresh data).
"""
