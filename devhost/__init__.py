"""A local stand-in for the Azure Functions host, serving the app's own FunctionApp (never deployed)."""

from devhost.host import DevHost, TriggerRunner

__all__ = ["DevHost", "TriggerRunner"]
