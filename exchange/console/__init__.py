"""Staff console pages over more than one platform: batches (quarantine, lineage) and
connectors, owned by the exchange platform, behind the sharing console's sign-in and roles.
Like `exchange.pipelines.console`, this composes platforms, so it lives outside them."""
