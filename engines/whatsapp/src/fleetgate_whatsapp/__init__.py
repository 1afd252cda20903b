"""fleetgate's whatsapp engine: real WhatsApp accounts through neonize (see docs/whatsapp.md)."""
