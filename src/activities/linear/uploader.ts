// Uploading bytes to Linear the way Linear wants it: `fileUpload` reserves a signed upload URL,
// a PUT with the headers it names stores the bytes, and the asset URL goes into markdown.
import type { LinearGateway } from './gateway';

export interface UploadInput {
  data: Buffer | Uint8Array;
  filename: string;
  contentType?: string;
}

export interface LinearUploader {
  /** Uploads and returns the asset URL to link from an activity body. */
  upload(input: UploadInput): Promise<string>;
}

export function createLinearUploader(linear: LinearGateway, opts: { timeoutMs?: number } = {}): LinearUploader {
  return {
    async upload({ data, filename, contentType = 'application/octet-stream' }) {
      const size = data.byteLength;
      if (size === 0) throw new Error(`upload ${filename}: the file is empty`);
      const payload = await linear.request(`reserve an upload for ${filename}`, (c) => c.fileUpload(contentType, filename, size));
      const file = payload.uploadFile;
      if (!file) throw new Error(`upload ${filename}: Linear returned no upload URL`);
      const headers: Record<string, string> = { 'Content-Type': contentType };
      for (const h of file.headers) headers[h.key] = h.value;
      const res = await fetch(file.uploadUrl, {
        method: 'PUT',
        headers,
        body: data,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
      });
      // The signed URL is a credential of sorts: errors name the file, not the URL.
      if (!res.ok) throw new Error(`upload ${filename}: storing the bytes failed with HTTP ${res.status}`);
      return file.assetUrl;
    },
  };
}
