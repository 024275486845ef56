"""cchc: one-stop dossier system and administrative-reform monitor (cải cách hành chính)."""

__version__ = "0.1.0"
