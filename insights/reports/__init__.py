"""Knowledge-manager reports (Wagtail admin -> Reports): shared filters, charts, export."""
