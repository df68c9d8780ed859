"""Demonstration data shared by the mocks: the fictional people (`people`: names, birth dates,
addresses, households, card PINs and passwords, the records about them). The mock card service
(portal.mock_jpki) and the mock resident records (portal.records.mock) both read it, and neither
imports the other."""
