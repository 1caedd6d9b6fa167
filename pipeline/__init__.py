"""gongwen: scanned Chinese official notices (公文) into structured, checkable records.

The stages live one per module and are chained in `pipeline.run`.
"""

__version__ = "0.1.0"
