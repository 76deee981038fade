"""Emails to visitors: what they say (fixed text, never what a visitor typed), who may get one (the
suppression list, daily caps), the one-click unsubscribe, and SES's bounces and complaints."""
