"""Lists every video a UPnP/DLNA media server offers, as folder/title
lines (JSON), by browsing its ContentDirectory from the root with a real
UPnP client (async-upnp-client): what a TV's media player sees.

    python dlna_browse.py http://127.0.0.1:8200/rootDesc.xml
"""
import asyncio
import json
import re
import sys

from async_upnp_client.aiohttp import AiohttpRequester
from async_upnp_client.client_factory import UpnpFactory

CONTAINER = re.compile(r'<container id="([^"]+)".*?<dc:title>([^<]*)</dc:title>', re.S)
ITEM = re.compile(r"<item .*?<dc:title>([^<]*)</dc:title>", re.S)


async def main(url):
    device = await UpnpFactory(AiohttpRequester()).async_create_device(url)
    browse = device.service("urn:schemas-upnp-org:service:ContentDirectory:1").action("Browse")
    found = []

    async def walk(object_id, path):
        result = await browse.async_call(
            ObjectID=object_id, BrowseFlag="BrowseDirectChildren", Filter="*",
            StartingIndex=0, RequestedCount=0, SortCriteria="")
        didl = result["Result"]
        for child, title in CONTAINER.findall(didl):
            await walk(child, path + [title])
        for title in ITEM.findall(didl):
            found.append("/".join(path + [title]))

    await walk("0", [])
    print(json.dumps({"name": device.friendly_name, "videos": sorted(found)}))


asyncio.run(main(sys.argv[1]))
