"""The ingest stage: each source read into its raw table (sample data or live), and its
change signal.

Importing it registers the sample generators (`ingest/sample/`) with the catalog, so all
that reads sample data through `catalog.sample_data` (the loaders, the signals, the
stand-ins) finds them, while the catalog itself depends on none of them.
"""

from ddrc_platform.ingest import sample as sample
