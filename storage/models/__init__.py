"""All tables. Import from here: `from storage.models import Customer, Ticket`."""

from storage.models.customer import ChatBinding, Contact, Customer, CustomerTag, Invite, Purchase, Tag
from storage.models.sales import FollowUp, Opportunity, OpportunityStage
from storage.models.service import SlaBreach, Ticket, TicketEvent
from storage.models.staff import Staff
from storage.models.system import (
    ActionRef,
    ApprovalRequest,
    AuditLog,
    CodeCounter,
    DialogState,
    JobRun,
    MessageRef,
    Outbox,
    ProcessedUpdate,
    SchedulerLease,
    Setting,
)

__all__ = [
    "ActionRef", "ApprovalRequest", "AuditLog", "ChatBinding", "CodeCounter", "Contact", "Customer",
    "CustomerTag", "DialogState", "FollowUp", "Invite", "JobRun", "MessageRef", "Opportunity",
    "OpportunityStage", "Outbox", "ProcessedUpdate", "Purchase", "SchedulerLease", "Setting", "SlaBreach",
    "Staff", "Tag", "Ticket", "TicketEvent",
]
