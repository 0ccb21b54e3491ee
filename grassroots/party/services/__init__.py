"""Every write of the party app (one module per subject; re-exported here)."""

from grassroots.party.services.service_records import Recorded, service_record_add

__all__ = ["Recorded", "service_record_add"]
