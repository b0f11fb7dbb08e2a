"""SSDLite neck and head."""
