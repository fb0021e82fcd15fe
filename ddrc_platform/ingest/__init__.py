"""The ingest stage: each source read into its raw table (sample data or live), and its
change signal.

Importing it names the sample generators' package (`ingest/sample/`) to the catalog, which
imports it at the first `catalog.sample_data` (the loaders, the signals, the stand-ins):
the catalog itself depends on none of them, and a process that never reads a sample
never loads them.
"""

from ddrc_platform.core import catalog

catalog.provide_samples("ddrc_platform.ingest.sample")
