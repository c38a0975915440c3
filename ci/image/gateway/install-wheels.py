"""Unpacks wheels into an image root with pypa/installer (run by ci/image/build-image.sh with the
installer wheel on sys.path and any Python 3): the packages go to the image's site directory and
console scripts get the image's interpreter in their #! line, whatever Python runs this.

    python3 install-wheels.py ROOT INTERPRETER SITE_DIR WHEEL...
e.g. ROOT /tmp/x, INTERPRETER /usr/bin/python3.11, SITE_DIR /usr/local/lib/python3.11/dist-packages.
No bytecode is written here (the build compiles it with the image's own interpreter).
"""
import sys
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile


def main(root, interpreter, site, wheels):
    local = root + "/usr/local"
    scheme = {"purelib": root + site, "platlib": root + site, "scripts": local + "/bin", "data": local,
              "headers": local + "/include/" + interpreter.rsplit("/", 1)[-1]}
    destination = SchemeDictionaryDestination(scheme, interpreter=interpreter, script_kind="posix")
    for wheel in wheels:
        with WheelFile.open(wheel) as source:
            install(source, destination, additional_metadata={"INSTALLER": b"elastic-jupyter ci/image\n"})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
