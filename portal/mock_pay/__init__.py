"""The mock payment service ("モックペイ"): a stand-in for a Japanese payment provider that
behaves like a real one, so that the portal's payment side (portal/payments) is built and tested
against the real protocol: a server API with an API key and idempotency keys, hosted payment
pages (card with 3-D Secure, QR code, konbini and Pay-easy numbers), signed webhooks delivered
at least once, and the faults real webhooks have (duplicates, reordering, delays, losses, bad
signatures). A blueprint of the portal's app, registered only when MOCK_PAY_ENABLED (on outside
production; production refuses it unless PORTAL_DEMO_DEPLOYMENT=1). See
docs/decisions/0029-mock-payment-provider.md.
"""
