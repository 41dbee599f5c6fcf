# -*- test-case-name: tests.services.test_daemons -*-
"""
What the twistd plugins share: their options, and reading the configuration
they name.
"""

from twisted.python import usage

from eucalyptus.config import config_from_file, data_dir, default_config_path

__all__ = ["Options", "settings_from"]


class Options(usage.Options):
    """
    Options of every Eucalyptus daemon.
    """

    optParameters = [
        ["config", "c", None, "eucalyptus.conf to read (default: $EUCALYPTUS_CONF or ./conf/eucalyptus.conf)"],
        ["data-dir", "d", None, "data directory (default: $EUCALYPTUS_HOME or ./var)"],
    ]


def settings_from(options):
    """
    The L{eucalyptus.config.Settings} the options name.
    """
    return config_from_file(options["config"] or default_config_path(), options["data-dir"] or data_dir())
