"""Analysis tools for hydro snapshots; they use yt only, never the solver."""
