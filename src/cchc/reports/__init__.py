"""Periodic reform reports (báo cáo định kỳ kết quả công tác CCHC): a report is built once
as a renderer-neutral document (`document.py`) from the indicator engine and the plan
monitor, then written as Word, PDF and an XLSX statistics workbook by shared renderers."""
