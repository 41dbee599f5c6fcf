from setuptools import find_packages, setup

setup(
    name="eucalyptus",
    version="0.1.0",
    description="Eucalyptus, the AWS-compatible private cloud, rebuilt in Python on Twisted",
    packages=find_packages(exclude=["tests", "tests.*", "bench"]) + ["twisted.plugins"],
    package_data={"eucalyptus": ["wsdl/*.wsdl"], "twisted": ["plugins/eucalyptus_plugins.py"]},
    python_requires=">=3.11",
    install_requires=[
        "twisted>=23.10",
        "constantly",
        "spyne==2.14.0",
        "lxml",
        "signxml>=4",
        "cryptography",
        "zope.interface",
        "txaio",
        "SQLAlchemy>=2",
        # PostgreSQL (DATABASE_URL="postgresql://..."): psycopg 3, wheels with libpq inside.
        "psycopg[binary]>=3.1",
        "libvirt-python",
    ],
    extras_require={
        "test": ["zeep", "xmlsec", "hypothesis", "boto3", "awscli"],
        "bench": ["moto[server]"],
    },
    entry_points={
        "console_scripts": [
            "euca-admin = eucalyptus.admin:main",
            "euca-test-image = eucalyptus.testimage:main",
        ]
    },
)
