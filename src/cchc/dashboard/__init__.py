"""Leaders' indicator dashboard (bảng chỉ số, đánh giá): pages under /chi-so/ on the
indicator engine's service API (`cchc.indicators.services`)."""
