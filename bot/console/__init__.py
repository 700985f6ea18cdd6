"""The staff console: handoffs from the bot to people, tickets, accounts and the audit log."""
