"""A local stand-in for the national public-service portal (CCHC_DVCQG_SIMULATOR=true;
development and tests only), speaking the same protocol as `cchc.national`'s client."""
