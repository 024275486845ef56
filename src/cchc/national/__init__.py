"""The national public-service platform (Cổng Dịch vụ công quốc gia, DVCQG): the outbound
sync of dossiers and their progress (a transactional outbox delivered by the worker),
dossiers submitted on the national portal, the catalogue of procedures, the published 766
figures and the citizens' single sign-on. docs/national-platform.md describes the protocol
and which of its fields are verified."""
