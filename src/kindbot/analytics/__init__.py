"""Value analytics: business events and the metrics of product value (home of issue 16)."""
