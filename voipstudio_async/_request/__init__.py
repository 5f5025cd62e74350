"""The request core: how one call becomes requests and a response becomes a result.

The Requester (``requester``) sends every request through the policies, maps errors
(``.._errors``), and decodes bodies into generated models (``decode``).
"""
