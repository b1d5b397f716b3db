"""One router per resource: cases, their steps, the inbox, the audit timeline."""
