"""Service desk REST API v1 connector: IT account, access card, keys and equipment requests as tickets."""

from connectors.servicedesk.catalog import ACCESS_PROFILES, BASIC_PROFILE, AccessProfile, access_profile_for, default_equipment, due_date_for
from connectors.servicedesk.client import ServiceDeskClient
from connectors.servicedesk.errors import (
    ReferenceConflictError,
    ServiceDeskAuthenticationError,
    ServiceDeskRejectedError,
    ServiceDeskUnavailableError,
    ServiceDeskValidationError,
    TicketClosedError,
    TicketNotFoundError,
)
from connectors.servicedesk.models import (
    AccessCardDetails,
    Comment,
    EquipmentDetails,
    EquipmentItem,
    ItAccountDetails,
    KeysDetails,
    Person,
    ServiceRequestCreate,
    Ticket,
    TicketCreated,
)
from connectors.servicedesk.settings import ServiceDeskSettings

__all__ = [
    "ACCESS_PROFILES",
    "BASIC_PROFILE",
    "AccessCardDetails",
    "AccessProfile",
    "Comment",
    "EquipmentDetails",
    "EquipmentItem",
    "ItAccountDetails",
    "KeysDetails",
    "Person",
    "ReferenceConflictError",
    "ServiceDeskAuthenticationError",
    "ServiceDeskClient",
    "ServiceDeskRejectedError",
    "ServiceDeskSettings",
    "ServiceDeskUnavailableError",
    "ServiceDeskValidationError",
    "ServiceRequestCreate",
    "Ticket",
    "TicketClosedError",
    "TicketCreated",
    "TicketNotFoundError",
    "access_profile_for",
    "default_equipment",
    "due_date_for",
]
