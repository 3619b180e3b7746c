"""Full-text search over the decisions: Finnish stems and compounds, an SQLite FTS5 index beside the tables.

`words` turns text into stems, `index` keeps `OUT/search.sqlite` in step with the tables (per
document, after every run), `query` answers `minutes search` and the browse page.
"""
