"""The table kit: reading CSV/XLSX exports into rows, cell values with Vietnamese reasons,
the importer registry and runner, the upload form, refused-row downloads and the export
formats. Used by the catalogue, organisation, plans, indicators and the interop pages;
imports nothing above the core."""
